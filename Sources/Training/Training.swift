// Training: trainers, losses (NTP, D3Diff, balance), checkpoints and training loops.
