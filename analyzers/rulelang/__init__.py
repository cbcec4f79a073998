"""The rule language: rules QA staff write in a pack's custom_rules.yaml (`schema`),
evaluated over a call (`evaluate`), tested by their own examples (`examples`)."""
