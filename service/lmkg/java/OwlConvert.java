import java.io.File;
import java.io.FileOutputStream;
import org.semanticweb.owlapi.apibinding.OWLManager;
import org.semanticweb.owlapi.formats.OWLXMLDocumentFormat;
import org.semanticweb.owlapi.model.OWLOntology;
import org.semanticweb.owlapi.model.OWLOntologyLoaderConfiguration;
import org.semanticweb.owlapi.model.OWLOntologyManager;
import org.semanticweb.owlapi.model.MissingImportHandlingStrategy;
import org.semanticweb.owlapi.io.FileDocumentSource;

/** Loads an ontology file with the OWL API (as Protégé does) and saves it as OWL/XML. */
public class OwlConvert {
    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: OwlConvert INPUT OUTPUT.owx");
            System.exit(2);
        }
        OWLOntologyManager manager = OWLManager.createOWLOntologyManager();
        OWLOntologyLoaderConfiguration config = new OWLOntologyLoaderConfiguration()
            .setMissingImportHandlingStrategy(MissingImportHandlingStrategy.SILENT);
        OWLOntology ontology = manager.loadOntologyFromOntologyDocument(
            new FileDocumentSource(new File(args[0])), config);
        try (FileOutputStream out = new FileOutputStream(args[1])) {
            manager.saveOntology(ontology, new OWLXMLDocumentFormat(), out);
        }
    }
}
