"""Image preprocessing in TF-Slim's styles; `preprocessing_factory` maps net names to them."""
