"""One module per screen; its layout lives in kv/<same name>.kv."""
