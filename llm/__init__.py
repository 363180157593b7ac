"""Language-model adapters (langchain + langchain-openai) behind the core's ChatModel port."""
