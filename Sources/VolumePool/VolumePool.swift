// VolumePool layer: see ../shared/DESIGN.md
