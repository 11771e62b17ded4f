"""Built-in plugin: text classification (``task=classification``) and sentiment (``task=sentiment``)."""
