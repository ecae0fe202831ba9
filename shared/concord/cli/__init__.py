"""The `concord` command: operate Concord on AWS or on the local stack."""
