"""`scenegen tour`: batches of tours over many scenes (spec, engines, manifest, review sheet)."""
