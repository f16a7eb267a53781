"""Language as data: vocabulary (lexicon), Korean particles, message language, answers, FAQ matching.

Pure functions over the words in bot/locales/words*.yaml; no model, no network. The intent reader
itself is bot/intents.py (`understand`); sentences are rendered by bot/i18n.py (`Translator`).
"""
