"""Benchmarks of lmkg against the Oxigraph server and rdflib-endpoint (`python3 -m bench run`)."""
