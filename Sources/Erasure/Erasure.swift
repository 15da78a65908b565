// Erasure layer: see ../shared/DESIGN.md
