"""Small pieces every stage uses: clock, backoff, logging and masking, secrets, shipped files, working days."""
