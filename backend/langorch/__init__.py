"""LangOrch: compile CKP procedures and run them durably on LangGraph."""

__version__ = "0.1.0"
