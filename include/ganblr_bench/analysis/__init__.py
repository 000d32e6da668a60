"""Reading the warehouse into typed answers: trends, comparisons, reports."""
