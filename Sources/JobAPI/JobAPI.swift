// JobAPI: see the job-service issues.
