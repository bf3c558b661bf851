// Test targets reach the backend's image reading/writing (ImageFile.decode, writePNG) through this target.
@_exported import FilterGraphBackend
@_exported import RasterImage
