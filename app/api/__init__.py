"""HTTP controllers: translation between HTTP/JSON and the domain services, nothing more."""
