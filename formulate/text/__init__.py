"""Reading problem text, shared by the offline readers and the verifier: :mod:`formulate.text.numbers`."""
