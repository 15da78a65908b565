// VaultCrypto layer: see ../shared/DESIGN.md
