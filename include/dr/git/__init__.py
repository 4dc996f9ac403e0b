"""Git source-code backup: discovery, mirrors, encrypted dated bundles."""
