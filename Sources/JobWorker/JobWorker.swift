// JobWorker: see the job-service issues.
