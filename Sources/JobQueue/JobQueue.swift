// JobQueue: see the job-service issues.
