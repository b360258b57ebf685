"""Public-opinion enrichment at load time: sentiment, keywords, topic and place of each post."""
