"""The guided reporting dialog: a pure form engine and the conversation around it."""
