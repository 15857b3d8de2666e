"""The core layer: the book on disk, records, schemas, money, git, errors and output."""
