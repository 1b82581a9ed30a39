"""The `report` stage: where each source stands, how sure we are, and what shows it."""
