// Buffers layer: see ../shared/DESIGN.md
