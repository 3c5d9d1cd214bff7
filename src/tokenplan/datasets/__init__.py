"""Data shipped with tokenplan: ``tokenplan.datasets.sft`` holds small SFT example pools (see its README)."""
