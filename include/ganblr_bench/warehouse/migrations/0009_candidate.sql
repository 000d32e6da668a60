-- The candidate stack (run/candidate.py): the locked image with an engineer's build of ganblr in place of the
-- locked one; its jobs are recorded beside the locked ones of the same run.

ALTER TABLE bench.job_results DROP CONSTRAINT job_results_stack_check;
ALTER TABLE bench.job_results ADD CONSTRAINT job_results_stack_check
    CHECK (stack IN ('locked', 'latest', 'candidate'));
