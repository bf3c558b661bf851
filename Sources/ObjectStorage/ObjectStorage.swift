// ObjectStorage: see the job-service issues.
