// The only script of the web app; every page works without it.
