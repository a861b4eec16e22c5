"""The GitHub source: an organisation or repository read through batched GraphQL and REST."""
