"""Photo evidence: safe intake, renditions, EXIF facts, tamper and reuse checks, private storage."""
