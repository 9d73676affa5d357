"""newsearch: full-text search for Chinese news archives."""
