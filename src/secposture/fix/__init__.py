"""`secposture fix`: generators that add what failing controls need (see fix/interface.py)."""
