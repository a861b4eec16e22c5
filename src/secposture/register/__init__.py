"""The process register: products, threat models, assurance, major changes, issues, risks, waivers."""
