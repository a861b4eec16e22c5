"""The dashboard's routes, one module per area; each route names the capability it needs."""
