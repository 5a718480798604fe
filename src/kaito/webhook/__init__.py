"""The validating admission webhook: AdmissionReview v1 over HTTPS, certificates it manages itself."""
