"""Reading molecule files, featurizing rows with statuses, splits and MoleculeNet loaders."""
