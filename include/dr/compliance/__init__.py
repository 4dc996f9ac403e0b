"""The compliance evaluation: each clause of the policy judged from the recorded evidence."""
