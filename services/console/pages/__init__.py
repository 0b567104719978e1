"""The console's pages, one module per menu section; each route calls the services' APIs and renders."""
