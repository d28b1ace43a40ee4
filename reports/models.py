"""What the county publishes and hands on: red/black-list circulars and export jobs."""
