"""Field mappings: how an org's Salesforce records become canonical reps, deals, splits and
team members, and where calculated results are written back.

Modules: `registry` (canonical fields and results), `schema` (the pydantic document),
`loader` (YAML/JSON in and out), `structure` (checks needing no org, the field-path walk),
`convert`, `transforms` (one record per named pure transform) and `expr`, `record_mapper` and
`compile` (document -> plain functions), `describe` and `validate` (against an org's
describes), `defaults` (the shipped default mapping), `diff` (between two versions),
`records` (RecordIssue, MappingContext).
"""
