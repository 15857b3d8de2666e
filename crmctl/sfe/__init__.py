"""SFE — sales force effectiveness: the team, visit plans, SOPs, coaching, the PDCA report."""
