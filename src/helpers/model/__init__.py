"""Stage 3, model: distributions (pure: mu and line -> P(over), P(under), P(push) per market,
and the mu guardrails). Imports only core and odds."""
