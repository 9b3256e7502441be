"""Commission disputes: workflow rules, opening and moving disputes, their Salesforce Tasks."""
