"""The Marketplace client's operations by area of the API, assembled in :mod:`..client`."""
