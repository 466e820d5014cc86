"""Text utilities shared by the answerers and the verifier: sentence spans (`sentences`), markers and bullets
(`markers`), words/stems/numbers/names (`terms`), question shapes (`questions`), planted instructions
(`injection`) and cached sentence embeddings (`embedder`)."""
