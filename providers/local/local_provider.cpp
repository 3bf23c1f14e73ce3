// Placeholder: replaced by the module implementation.
