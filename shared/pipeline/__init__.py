"""The event-driven dump pipeline: discover → fetch → verify → split → load → finalize.

Pure logic (listing and checksum parsing, messages, run planning, progress) lives in modules that
touch no network or storage; the I/O modules (`runstore`, `fetch`, `split`, `load`, `finalize`,
`service`) use them. `functions/pipeline.py` only adapts triggers to `service`.
"""
