"""Who is calling and what they may do: identities (sessions, JWT/OIDC tokens, API keys,
local users), roles, the route → role table, and the guard that enforces it on every route."""
