"""An example subscriber of the registry platform's events: copy this directory to start your own."""
