"""Demo data modelled on the source article: 唐山分行 and its sub-branches."""
